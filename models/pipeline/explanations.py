"""Per-customer explanations of the champions, in one frame keyed by customer_id.

``Explanations.contributions`` has a column ``shap_<name>__<feature>`` per model input
(``name``: ``clv`` and ``churn`` for transactions, ``regression`` for a customer table),
indexed by ``customer_id``. For every customer and model,
``base_values[name] + contributions of that name summed == outputs[name]``, the model's
output in ``spaces[name]`` (see ``models.explain``: spend or log-spend for CLV, log-odds
for churn, the target's units for a customer table).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from models.explain import Explanation, global_importance


@dataclass
class Explanations:
    contributions: pd.DataFrame
    base_values: dict[str, float]
    spaces: dict[str, str]
    outputs: pd.DataFrame
    importance: dict[str, dict[str, float]]

    @classmethod
    def of(cls, explanations: dict[str, Explanation]) -> Explanations:
        parts = [e.contributions.add_prefix(f"shap_{name}__")
                 for name, e in explanations.items()]
        contributions = pd.concat(parts, axis=1) if parts else pd.DataFrame()
        contributions.index.name = "customer_id"
        outputs = pd.DataFrame({name: e.output for name, e in explanations.items()})
        outputs.index.name = "customer_id"
        return cls(
            contributions=contributions,
            base_values={name: float(e.base_value) for name, e in explanations.items()},
            spaces={name: e.space for name, e in explanations.items()},
            outputs=outputs,
            importance={name: {str(k): float(v) for k, v in global_importance(e).items()}
                        for name, e in explanations.items()},
        )

    def report(self, name: str) -> dict:
        """The JSON-safe summary of model ``name``: space, global importance, base value."""
        return {
            "explanation_space": self.spaces[name],
            "global_importance": self.importance[name],
            "explanation_base_value": self.base_values[name],
        }
