"""``solvation validate``: reference systems run and compared with experiment.

Submodules load when first used (scientific Python SPEC 1, ``lazy_loader``): the
package's names are listed in ``__init__.pyi``, so ``import solvation.validation`` is cheap and
the command line starts fast.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
