"""Contrastive baselines on the STTFormer backbone: CrosSCLR (CVPR 2021) and AimCLR (AAAI 2022).

Modules: ``augmentations``, ``attention_drop`` (EADM), ``moco``, ``mining``, ``views``, ``model``
(``ContrastiveModel``, whose forward computes its method's loss) and ``build``. Their settings are
the ``contrastive:`` section of a run config (re-exported here). See docs/contrastive.md.
"""

from skeletonmae.run_config import AttentionDropConfig, AugmentationConfig, ContrastiveConfig

__all__ = ["AttentionDropConfig", "AugmentationConfig", "ContrastiveConfig"]
