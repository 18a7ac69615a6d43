"""Pure-Python science of the insights app (no Django; an import-linter contract keeps it so).

- ``campaign``: a deterministic demo campaign with a stated ground truth and forward-modelled files
- ``drivers``: which recipe parameter moved which metric (rank correlation + robust slope, with CIs)
- ``spc``: individuals / moving-range control charts and Western Electric / Nelson rule hits
- ``doe``: ``suggest(history, space, target, n)``, batch Bayesian optimisation (scikit-learn GP)
"""
