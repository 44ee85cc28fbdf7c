"""Pure builders: a FraudModel (and the operator's config) in, Kubernetes object bodies out.

They read nothing from the cluster and are unit-tested without one; handlers apply what they build.
"""
