"""Decoding and encoding of KServe V2 / Open Inference Protocol tensors over HTTP.

Both the JSON form (``data`` lists) and the binary tensor extension (a JSON header of
``Inference-Header-Content-Length`` bytes followed by raw little-endian tensors, which is what
tritonclient sends by default) are understood. The body is parsed with orjson, not Pydantic:
this is the fast path, and it checks everything a client can get wrong itself, answering with a
message that names the input and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from fraud_inference.responses import ClientError

HEADER_LENGTH = "Inference-Header-Content-Length"
NUMERIC_DTYPES: dict[str, str] = {
    "FP64": "<f8",
    "FP32": "<f4",
    "FP16": "<f2",
    "INT64": "<i8",
    "INT32": "<i4",
    "INT16": "<i2",
    "INT8": "i1",
    "UINT64": "<u8",
    "UINT32": "<u4",
    "UINT16": "<u2",
    "UINT8": "u1",
}


@dataclass(frozen=True)
class InferRequest:
    """A decoded inference request: its id, input tensors and which outputs to send, how."""

    id: str | None
    inputs: dict[str, np.ndarray]
    outputs: list[str] | None
    binary_outputs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class OutputTensor:
    """One output tensor to encode."""

    name: str
    datatype: str
    values: np.ndarray


def bad_request(message: str) -> ClientError:
    """The V2 protocol answers malformed requests with 400 and ``{"error": ...}``."""
    return ClientError(400, message)


def decode_request(body: bytes, header_length: str | None) -> InferRequest:
    """Parse an infer request body (JSON, or JSON + binary tensors)."""
    json_part, binary = body, b""
    if header_length is not None:
        try:
            size = int(header_length)
        except ValueError:
            raise bad_request(
                f"{HEADER_LENGTH}: must be an integer, got {header_length!r}"
            ) from None
        if not 0 < size <= len(body):
            raise bad_request(f"{HEADER_LENGTH}: {size} is outside the body of {len(body)} bytes")
        json_part, binary = body[:size], body[size:]
    try:
        payload = orjson.loads(json_part)
    except orjson.JSONDecodeError as error:
        raise bad_request(f"body: not valid JSON ({error})") from None
    if not isinstance(payload, dict):
        raise bad_request("body: must be a JSON object with an 'inputs' list")
    raw_inputs = payload.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise bad_request("inputs: must be a non-empty list of tensors")
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for i, tensor in enumerate(raw_inputs):
        name, values, offset = _decode_input(i, tensor, binary, offset)
        inputs[name] = values
    if offset != len(binary):
        raise bad_request(f"body: {len(binary) - offset} bytes of binary data belong to no input")
    outputs, binary_outputs = _requested_outputs(payload)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise bad_request("id: must be a string")
    return InferRequest(request_id, inputs, outputs, binary_outputs)


def _decode_input(
    index: int, tensor: Any, binary: bytes, offset: int
) -> tuple[str, np.ndarray, int]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise bad_request(f"{where}: must be an object with name, shape, datatype and data")
    name, datatype, shape = tensor.get("name"), tensor.get("datatype"), tensor.get("shape")
    if not isinstance(name, str) or not name:
        raise bad_request(f"{where}.name: must be a non-empty string")
    where = f"input {name!r}"
    if datatype not in NUMERIC_DTYPES:
        raise bad_request(
            f"{where}: datatype {datatype!r} is not numeric ({', '.join(NUMERIC_DTYPES)})"
        )
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise bad_request(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
    count = int(np.prod(shape))
    parameters = tensor.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request(f"{where}: parameters must be an object")
    size = parameters.get("binary_data_size")
    if size is not None:
        dtype = np.dtype(NUMERIC_DTYPES[datatype])
        if (
            not isinstance(size, int)
            or size != count * dtype.itemsize
            or offset + size > len(binary)
        ):
            raise bad_request(
                f"{where}: binary_data_size {size!r} does not match shape {shape} of {datatype} "
                "or the binary data sent"
            )
        values = np.frombuffer(binary, dtype=dtype, count=count, offset=offset)
        return name, values.astype(np.float64).reshape(shape), offset + size
    if "data" not in tensor:
        raise bad_request(f"{where}: has neither data nor parameters.binary_data_size")
    try:
        values = np.asarray(tensor["data"])
    except ValueError:
        raise bad_request(f"{where}: data is a ragged nested list") from None
    if values.dtype.kind not in "iuf":
        raise bad_request(f"{where}: data must contain numbers only")
    if values.size != count:
        raise bad_request(f"{where}: data has {values.size} values, shape {shape} needs {count}")
    return name, values.astype(np.float64).reshape(shape), offset


def _requested_outputs(payload: dict[str, Any]) -> tuple[list[str] | None, set[str]]:
    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request("parameters: must be an object")
    binary_default = parameters.get("binary_data_output") is True
    requested = payload.get("outputs")
    if requested is None:
        return None, {"*"} if binary_default else set()
    if not isinstance(requested, list):
        raise bad_request("outputs: must be a list of {name} objects")
    names, binary = [], set()
    for i, output in enumerate(requested):
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise bad_request(f"outputs[{i}]: must be an object with a name")
        names.append(output["name"])
        output_parameters = output.get("parameters") or {}
        if not isinstance(output_parameters, dict):
            raise bad_request(f"outputs[{i}].parameters: must be an object")
        if output_parameters.get("binary_data", binary_default) is True:
            binary.add(output["name"])
    return names, binary


def encode_response(
    header: dict[str, Any], outputs: list[OutputTensor], binary_outputs: set[str]
) -> tuple[bytes, dict[str, str]]:
    """The response body and extra headers; binary outputs follow the JSON header."""
    chunks: list[bytes] = []
    encoded = []
    for output in outputs:
        entry: dict[str, Any] = {
            "name": output.name,
            "datatype": output.datatype,
            "shape": list(output.values.shape),
        }
        if "*" in binary_outputs or output.name in binary_outputs:
            raw = _binary(output)
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            entry["data"] = output.values.ravel().tolist()
        encoded.append(entry)
    head = orjson.dumps({**header, "outputs": encoded})
    if not chunks:
        return head, {}
    return head + b"".join(chunks), {HEADER_LENGTH: str(len(head))}


def _binary(output: OutputTensor) -> bytes:
    if output.datatype == "BYTES":
        parts = []
        for value in output.values.ravel().tolist():
            data = str(value).encode()
            parts.append(len(data).to_bytes(4, "little") + data)
        return b"".join(parts)
    return np.ascontiguousarray(output.values, dtype=NUMERIC_DTYPES[output.datatype]).tobytes()
