"""The recommender engine: graph, models, training, ranking, metrics, evaluation, checkpoints. Never imports textual."""
