"""Raw NTU RGB+D / NW-UCLA and other formats -> a prepared dataset -> training tensors (docs/data.md).

Import from the modules: the package imports nothing, so preparation workers start without torch.
"""
