"""skeletonmae.cli"""
