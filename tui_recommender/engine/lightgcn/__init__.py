"""LightGCN: the model, its training and its online fine-tune."""
