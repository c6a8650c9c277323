"""skeletonmae.data: raw NTU RGB+D / NW-UCLA and other formats -> a prepared dataset -> training tensors.

Import from the modules (``skeletonmae.data.prepare``, ``.store``, ``.dataset``, ``.loader``, ...): the
package itself imports nothing, so preparation workers start without torch. See docs/data.md for the
formats and the prepared-dataset folder.
"""
