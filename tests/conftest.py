pytest_plugins = [
    "devcluster.pytest_plugin",
    "localservices.pytest_datastores",
    "localservices.pytest_mlflow",
    "localservices.pytest_object_store",
]
