"""Data files of the GPU catalog (gpu-models.yaml); a package so the wheel ships them."""
