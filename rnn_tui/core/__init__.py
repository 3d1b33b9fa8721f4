"""The pure core: data, training, rollout and metrics. Never imports textual or plotext."""
