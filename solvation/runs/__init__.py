"""Application recipes: the analyses of ``solvation.analysis`` applied to build, run, PMF
and metadynamics directories, written once for every caller. The command line, the
campaigns and the validation suite call these and only format what they return; the
analysis library itself reads no build record (``build.json``) and knows no formula
(``tests/test_layout.py`` checks it).

One module per concern:

- ``selections``: centre, shell and species selections from ``build.json``
  (``run_selections``) and the atoms' fixed charges from ``system.xml``;
- ``structure``: Zn2+ shells with automatic cutoffs (first minimum of g(r), a 3 A
  fallback where g(r) has none, said in ``cutoff_source``) and ion pairing with the
  second-shell cutoff (``shells_of_run``); the H-bond network (``hbonds_of_run``);
- ``transport``: diffusion of every species and, with two or more ionic species, the
  conductivity from the same centre-of-mass series (``transport_of_run``);
  ``transport_analysis`` is the one set-up of a ``Transport`` with the Yeh-Hummer
  correction; ``viscosity``: a run's measured viscosity and the one that correction uses;
- ``analyses``: any of shells, H-bonds and transport in one pass over the trajectory
  (``analyses_of_run``), with the frames it read;
- ``interface``: profiles, contact layer of each face and the electrode's surface
  charge and capacitance (``interface_of_run``);
- ``water_activity``: the route (osmotic, Kirkwood-Buff series, free-water proxy)
  chosen from what the directories hold (``water_activity_of_runs``);
- ``pmf``: the free-energy and water-count profile of an ion from the umbrella windows
  of ``solvation pmf`` (``pmf_of_directory``), or a pair PMF (``pair_pmf_of_directory``):
  W(r), the CIP/SSIP states and the association constants;
- ``metad``: the unbiased contact pairs of a metadynamics stage (``metad_of_directory``).

Submodules load when first used (scientific Python SPEC 1, ``lazy_loader``): the
package's names are listed in ``__init__.pyi``, so ``import solvation.runs`` is cheap and
the command line starts fast.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
