"""The analysis lifecycle shared by every analysis: MDAnalysis' ``AnalysisBase``
(``_prepare`` / ``_single_frame`` / ``_conclude``, ``run(start, stop, step)``) with one
result convention: ``_conclude`` stores a frozen result dataclass (``to_dict()``,
``to_frame()`` where tabular) at ``results.<result_name>``, and ``.result`` returns it
for every analysis alike."""

from __future__ import annotations

from MDAnalysis.analysis.base import AnalysisBase


class Analysis(AnalysisBase):
    """``AnalysisBase`` whose ``result`` property returns ``results.<result_name>``."""

    result_name: str = ""

    @property
    def result(self):
        """The result dataclass of the last ``run()``."""
        if self.result_name not in self.results:
            raise AttributeError(f"{type(self).__name__} has no result yet; call .run() first")
        return self.results[self.result_name]
