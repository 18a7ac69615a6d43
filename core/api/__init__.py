"""Shared REST plumbing: one error shape, per-project restriction, label look-up, pagination,
instrument-token permissions and per-token throttling. App APIs live in ``<app>/api/``."""
