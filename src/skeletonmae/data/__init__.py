"""skeletonmae.data"""
