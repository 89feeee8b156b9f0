"""livingreview: keeps a published literature review current.

The package is the functional core: it never imports Prefect. Prefect tasks in ``tasks/`` and
flows in ``flows/`` are thin wrappers around it.
"""

__version__ = "0.1.0"
