"""Fine-tuning on your corpus: hard-negative mining, embedder and cross-encoder training, before/after guard.

Entry point: :func:`ragkit.train.finetune.finetune` (``ragkit finetune config.yaml``).
Importing this package loads no model and no torch.
"""
