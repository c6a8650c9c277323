"""skeletonmae.training"""
