"""What drives a customer table's target: the global importance of each column from the
SHAP values, the direction of its effect, the target model's cross-validation in plain
words, and the leakage guard's findings as sentences.

`drivers` is the run's `drivers` aggregate as a DataFrame (`feature`, `importance`,
`share`, `kind`, `correlation`, `highest`, `lowest`); `regression` is the regression
model's report (`target`, `features`, `excluded`, `cross_validation`, `notes`,
`leakage`). Column names and values are uploaded data: they go into figures escaped and
into tables as text.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import empty_figure, style
from dashboard.components.formatting import number, percent
from dashboard.figures.customer import DOWN, UP, feature_label
from dashboard.figures.segments import chart_text
from models.evaluation.customer_table import LEAKAGE_THRESHOLD

MAX_BARS = 15
# |correlation| of a column's value with its SHAP value from which its effect has a direction.
DIRECTION_THRESHOLD = 0.3
MIXED = "#8c8c8c"
# (metric, plain name, what it means, digits); the unit is the target's own.
METRICS = (
    ("r2", "R² (share explained)",
     "Share of the differences in {target} between customers that the model explains: 1 is "
     "perfect, 0 is no better than always guessing the average.", 3),
    ("mae", "Mean absolute error",
     "How far a prediction is from the real {target} on average, in its own unit.", 2),
    ("rmse", "Root mean squared error",
     "The average miss with big misses weighted more; well above the mean absolute error "
     "means a few customers are missed by a lot.", 2),
)
BASELINE = "Always the average"
# A relative difference in the average miss below which model and baseline miss alike.
SAME_MISS = 0.01


def regression_report(report: dict | None) -> dict:
    """The regression model's report, wherever the run keeps it: under `models` (a
    worker's run, with `leakage`) or at the top (the offline pipeline's report)."""
    report = report or {}
    model = (report.get("models") or {}).get("regression") or report.get("regression") or {}
    if model.get("leakage") is None and report.get("leakage") is not None:
        model = {**model, "leakage": report["leakage"]}
    return model


def target_label(regression: dict) -> str:
    """"purchase amount" for `purchase_amount`: the target as it reads in a sentence."""
    target = regression.get("target")
    return feature_label(str(target)).lower() if target else "the target"


def _correlation(value) -> str:
    """0.79, −0.22: two decimals with a true minus sign."""
    return number(value, 2).replace("-", "−")


def _top(drivers: pd.DataFrame) -> pd.DataFrame:
    return drivers.sort_values("importance", ascending=False).head(MAX_BARS).iloc[::-1]


def _direction_colour(row) -> str:
    correlation = row.get("correlation")
    if correlation is None or pd.isna(correlation) or abs(correlation) < DIRECTION_THRESHOLD:
        return MIXED
    return UP if correlation > 0 else DOWN


def direction_text(row) -> str:
    """Whether higher values of the column raise or lower the prediction, in words."""
    if row.get("kind") == "text":
        if row.get("highest") is None or pd.isna(row.get("highest")):
            return "One value only: no direction"
        return f"Highest for “{row['highest']}”, lowest for “{row['lowest']}”"
    correlation = row.get("correlation")
    if correlation is None or pd.isna(correlation):
        return "Too little variation to tell"
    shown = _correlation(correlation)
    if correlation >= DIRECTION_THRESHOLD:
        return f"Higher values raise the prediction (correlation {shown})"
    if correlation <= -DIRECTION_THRESHOLD:
        return f"Higher values lower the prediction (correlation {shown})"
    return f"No single direction: it depends on the other columns (correlation {shown})"


def importance_chart(drivers: pd.DataFrame) -> go.Figure:
    """Mean |SHAP| per column, the most important on top, coloured by direction (red:
    higher values raise the prediction, blue: lower it, grey: text or mixed)."""
    if drivers.empty:
        return empty_figure("No explanations in this run yet")
    top = _top(drivers)
    labels = [chart_text(feature_label(name)) for name in top["feature"]]
    words = [chart_text(direction_text(row)) for row in top.to_dict(orient="records")]
    fig = go.Figure(go.Bar(
        x=top["importance"], y=labels, orientation="h",
        marker_color=[_direction_colour(row) for row in top.to_dict(orient="records")],
        customdata=list(zip((top["share"].fillna(0) * 100), words, strict=True)),
        hovertemplate=("%{y}: moves the prediction by %{x:,.2f} on average"
                       "<br>%{customdata[0]:.1f} % of all effects<br>%{customdata[1]}"
                       "<extra></extra>"),
    ))
    fig.update_xaxes(title_text="Average effect on the prediction")
    return style(fig, height=max(240, 28 * len(top) + 90))


def direction_chart(drivers: pd.DataFrame) -> go.Figure:
    """The correlation of each numeric column's value with its SHAP value, from −1 (higher
    values always lower the prediction) to +1 (always raise it)."""
    numeric = drivers[drivers["correlation"].notna()] if "correlation" in drivers else drivers.iloc[0:0]
    if numeric.empty:
        return empty_figure("No numeric column with a direction to show")
    top = _top(numeric)
    fig = go.Figure(go.Bar(
        x=top["correlation"], y=[chart_text(feature_label(name)) for name in top["feature"]],
        orientation="h", marker_color=[_direction_colour(row) for row in top.to_dict(orient="records")],
        hovertemplate="%{y}: correlation %{x:.2f}<extra></extra>",
    ))
    for edge in (-DIRECTION_THRESHOLD, DIRECTION_THRESHOLD):
        fig.add_vline(x=edge, line_dash="dot", line_color=MIXED)
    fig.update_xaxes(range=[-1.05, 1.05], title_text="← lowers the prediction · raises it →",
                     zeroline=True)
    return style(fig, height=max(240, 28 * len(top) + 90))


def drivers_table(drivers: pd.DataFrame) -> pd.DataFrame:
    """Every column, most important first: its share of all effects and its direction."""
    if drivers.empty:
        return pd.DataFrame()
    ordered = drivers.sort_values("importance", ascending=False)
    return pd.DataFrame({
        "Column": [feature_label(str(name)) for name in ordered["feature"]],
        "Share of all effects": ordered["share"].map(percent),
        "Average effect": ordered["importance"].map(lambda v: number(v, 2)),
        "Direction": [direction_text(row) for row in ordered.to_dict(orient="records")],
    })


def _means(regression: dict) -> tuple[dict, dict]:
    validation = regression.get("cross_validation") or {}
    return (((validation.get("model") or {}).get("mean") or {}),
            ((validation.get("baseline") or {}).get("mean") or {}))


def metrics_table(regression: dict) -> pd.DataFrame:
    """One row per cross-validation metric: the model's mean over the folds, the mean
    baseline's, and a line saying what the metric means."""
    model, baseline = _means(regression)
    if not model:
        return pd.DataFrame()
    target = target_label(regression)
    return pd.DataFrame({
        "Metric": [plain for _, plain, _, _ in METRICS],
        "Model": [number(model.get(key), digits) for key, _, _, digits in METRICS],
        BASELINE: [number(baseline.get(key), digits) for key, _, _, digits in METRICS],
        "What it means": [meaning.format(target=target) for _, _, meaning, _ in METRICS],
    })


def metrics_summary(regression: dict) -> str:
    """The cross-validation in one or two sentences."""
    model, baseline = _means(regression)
    if not model:
        return "This run has no cross-validation results."
    target = target_label(regression)
    folds = len(((regression.get("cross_validation") or {}).get("model") or {}).get("folds") or [])
    text = (f"Checked by {folds}-fold cross-validation: every customer's {target} was predicted "
            "by a model that had not seen it. ") if folds else ""
    r2, mae, base_mae = model.get("r2"), model.get("mae"), baseline.get("mae")
    if r2 is not None:
        text += f"The model explains {percent(max(r2, 0.0), 0)} of the differences in {target}"
        text += "." if r2 > 0 else ": no better than always guessing the average."
    if mae is not None and base_mae:
        change = 1 - mae / base_mae
        than = (f"{percent(abs(change), 0)} {'less' if change > 0 else 'more'} than"
                if abs(change) >= SAME_MISS else "about as much as")
        text += (f" It misses by {number(mae, 2)} on average, {than} always guessing the "
                 f"average ({number(base_mae, 2)}).")
    return text.strip()


def _correlation_words(item: dict, target: str) -> str:
    pearson, spearman = item.get("pearson"), item.get("spearman")
    pearson = float(pearson) if pearson is not None else 0.0
    spearman = float(spearman) if spearman is not None else 0.0
    if abs(pearson) >= min(abs(spearman), LEAKAGE_THRESHOLD):
        same = "almost the same as" if pearson > 0 else "almost the mirror image of"
        return f"it is {same} {target} (correlation {_correlation(pearson)})"
    order = "in almost the same order as" if spearman > 0 else "in almost the reverse order of"
    return f"it ranks customers {order} {target} (rank correlation {_correlation(spearman)})"


def leakage_lines(regression: dict) -> list[str]:
    """The leakage guard's findings as sentences, one per flagged column, then the notes
    on rows left out; a sentence saying so when nothing was flagged."""
    target = str(regression.get("target") or "the target")
    excluded = set(regression.get("excluded") or [])
    lines = []
    for item in regression.get("leakage") or []:
        column = str(item.get("feature"))
        words = _correlation_words(item, f"“{target}”")
        if column in excluded:
            lines.append(f"Column “{column}” was left out: {words}, so it is most likely "
                         f"computed from it and would not be known in advance.")
        else:
            lines.append(f"Column “{column}” was kept although {words}: check that it is "
                         f"known before {target} is.")
    if not lines:
        lines.append(f"No column was left out: none follows “{target}” so closely "
                     f"(correlation {number(LEAKAGE_THRESHOLD, 2)} or more) that it would "
                     "give the answer away.")
    return lines + [str(note) for note in regression.get("notes") or []]
