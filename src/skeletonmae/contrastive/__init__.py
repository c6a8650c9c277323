"""Contrastive baselines on the STTFormer backbone: CrosSCLR (CVPR 2021) and AimCLR (AAAI 2022).

- ``config``: ``ContrastiveConfig`` (method, MoCo settings, mining epoch), ``AugmentationConfig``,
  ``AttentionDropConfig``; the ``contrastive:`` section of a run config.
- ``augmentations``: seedable batch augmentations ``(N, C, T, V, M)`` (Shear, Crop, AimCLR's extreme set).
- ``attention_drop``: AimCLR's energy-based attention drop on feature maps.
- ``moco``: projection head, key queue, momentum update, InfoNCE, D3M.
- ``mining``: AimCLR's nearest-neighbour and CrosSCLR's cross-view positives.
- ``views``: joint / motion / bone views.
- ``model``: ``ContrastiveModel`` (query/key encoders per view, queues); ``forward(x) -> loss``
  computes the configured method's loss, as SkeletonMAE's forward does.
- ``build``: the model for a prepared dataset, the parameters to train, the exported encoder. The
  pre-training stage steps it with ``skeletonmae.training.tasks.ContrastivePretrainTask``.

See docs/contrastive.md.
"""

from skeletonmae.run_config import AttentionDropConfig, AugmentationConfig, ContrastiveConfig

__all__ = ["AttentionDropConfig", "AugmentationConfig", "ContrastiveConfig"]
