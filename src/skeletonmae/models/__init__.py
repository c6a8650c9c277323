"""skeletonmae.models"""
