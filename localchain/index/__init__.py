"""localchain.index: see the open issues; this layer is built after the model layer."""
