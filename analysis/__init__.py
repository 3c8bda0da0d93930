"""Trajectory analyses, streaming frames through MDAnalysis with one shared neighbour
search: RDF, coordination, speciation, pairing, residence, H-bond network, transport,
water activity, interface profiles and contact layers. The recipes that apply them to
build/run directories are ``solvation.runs``'s: this package reads no build record
(``build.json``) and knows no formula. Every mean with an error is a
``stats.Estimate`` (standard error from the statistical inefficiency, effective samples,
convergence flag); viscosity by periodic perturbation lives in ``viscosity``.

Every analysis class follows MDAnalysis' lifecycle (``Analysis(...).run(start, stop,
step)``) and stores one frozen result dataclass at ``.results.<name>`` (``.result`` is
deprecated); results have ``to_dict()`` (JSON-safe) and ``to_frame()`` where tabular.

Submodules load when first used (scientific Python SPEC 1, ``lazy_loader``): the
package's names are listed in ``__init__.pyi``, so ``import solvation.analysis`` is cheap and
the command line starts fast.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
