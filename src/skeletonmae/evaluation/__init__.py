"""skeletonmae.evaluation"""
