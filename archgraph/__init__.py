"""archgraph: performance prediction for NAS with graph neural networks."""
__version__ = "0.1.0"
