"""skeletonmae.viz"""
