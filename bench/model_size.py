"""Model size check: the CDNOW backtest with the default tree settings and a larger model.

Tree sizes may shrink only while the CLV champion's normalised Gini and Spearman on the
CDNOW sample stay within 0.01 of what the larger model gives. Prints both and writes
bench/model_size.json.

    python bench/model_size.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CDNOW = HERE.parent / "tests" / "data" / "CDNOW_sample.txt"
LARGER = {"max_depth": 6, "n_estimators": 600, "max_train_rows": 10_000_000}
TOLERANCE = 0.01


def champion_scores(transactions, boosting: dict) -> dict:
    from models.evaluation.churn import run_churn
    from models.evaluation.clv import run_clv
    from models.evaluation.data import BacktestData

    data = BacktestData(transactions, 180)
    clv = run_clv(transactions, 180, data=data, boosting=boosting)
    churn = run_churn(transactions, 180, data=data, boosting=boosting)
    champion = clv.backtest[clv.champion]
    return {
        "clv_champion": clv.champion,
        "normalized_gini": round(champion["normalized_gini"], 4),
        "spearman": round(champion["spearman"], 4),
        "xgboost": {k: round(clv.backtest["xgboost"][k], 4) for k in ("normalized_gini", "spearman", "total_ratio")},
        "churn_champion": churn.champion,
        "churn_roc_auc": round(churn.backtest[churn.champion]["roc_auc"], 4),
    }


def main() -> None:
    from models.ingest import read_transactions

    transactions = read_transactions(CDNOW).frame
    default = champion_scores(transactions, {})
    larger = champion_scores(transactions, LARGER)
    gaps = {m: round(larger[m] - default[m], 4) for m in ("normalized_gini", "spearman")}
    within = all(gap <= TOLERANCE for gap in gaps.values())
    for name, scores in (("default", default), ("larger", larger)):
        print(f"{name:>8}: CLV champion {scores['clv_champion']:<10} Gini {scores['normalized_gini']:.3f} "
              f"Spearman {scores['spearman']:.3f} (xgboost Gini {scores['xgboost']['normalized_gini']:.3f}, "
              f"Spearman {scores['xgboost']['spearman']:.3f}, total ratio {scores['xgboost']['total_ratio']:.2f}); "
              f"churn champion {scores['churn_champion']} AUC {scores['churn_roc_auc']:.3f}")
    print(f"larger − default: {gaps}; within {TOLERANCE}: {within}")
    result = {"default": default, "larger": {"settings": LARGER, **larger}, "gaps": gaps,
              "within_tolerance": within}
    (HERE / "model_size.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
