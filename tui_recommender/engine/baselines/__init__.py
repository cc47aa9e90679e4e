"""Baselines beside LightGCN, each a `recommender.Recommender`: most-popular and EASE."""
