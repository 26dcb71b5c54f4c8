"""Overview: the KPIs, revenue over time, segment mix, CLV distribution, what changed
since the previous run, the offline report, and the job list."""

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from dashboard import web
from dashboard.aggregates import aggregate
from dashboard.components.cards import chart_card, empty_state, kpi_card, kpi_row, page_header
from dashboard.components.charts import graph
from dashboard.components.live import page_data, previous_kpis, run_cached
from dashboard.figures import overview as figures
from dashboard.report_html import build_report

dash.register_page(__name__, path="/", name="Overview", title="ValueLens", order=0)

KEYS = ("kpis", "revenue_by_month", "segment_mix", "persona_mix", "clv_histogram")


@run_cached
def _content(page):
    # Built once per run: the previous run's figures cannot change once this one is live.
    aggregates = {key: aggregate(key, page.data) for key in KEYS}
    previous = previous_kpis()
    kpis = figures.kpi_items(aggregates["kpis"], page.currency, previous)
    charts = figures.overview_figures(aggregates, page.currency, page.horizon)
    changed = figures.changes(aggregates["kpis"], previous, page.currency)
    cards = [dbc.Col(chart_card(title, graph(fig, f"overview-chart-{i}")), xs=12,
                     xl=12 if i == 0 else 6, className="mb-3")
             for i, (title, fig) in enumerate(charts)]
    return [
        kpi_row([kpi_card(label, value, note) for label, value, note in kpis]),
        dbc.Row(cards),
        chart_card("Since the previous analysis",
                   html.Ul([html.Li(line) for line in changed], className="mb-0") if changed
                   else html.P("This is the first analysis of your data; changes show after the next one.",
                               className="text-muted mb-0"), card_id="overview-changes"),
    ]


def layout(**_query):
    page = page_data()
    download = html.Div([
        dbc.Button("Download report", id="overview-report-button", color="secondary",
                   outline=True, size="sm", disabled=page is None),
        dcc.Download(id="overview-report"),
    ])
    return html.Div([
        html.Div([page_header("Overview", "Your customers at a glance"), download],
                 className="d-flex justify-content-between align-items-start flex-wrap gap-2"),
        html.Div(_content(page) if page else empty_state(), id="overview-analytics"),
        dbc.Card([dbc.CardHeader("Jobs"),
                  dbc.CardBody(html.Div(id="jobs-table", children=web.recent_jobs()))],
                 className="mt-3"),
        dcc.Interval(id="jobs-refresh", interval=web.JOB_REFRESH_MS),
    ])


@dash.callback(Output("overview-report", "data"), Input("overview-report-button", "n_clicks"),
               prevent_initial_call=True)
def download_report(_clicks):
    page = page_data()
    if page is None:
        return dash.no_update
    aggregates = {key: aggregate(key, page.data) for key in KEYS}
    previous = previous_kpis()
    text = build_report(
        page.tenant_name, figures.kpi_items(aggregates["kpis"], page.currency, previous),
        figures.overview_figures(aggregates, page.currency, page.horizon),
        figures.changes(aggregates["kpis"], previous, page.currency),
        data_until=aggregates["kpis"].get("last_date"))
    return dcc.send_string(text, "valuelens-overview.html", type="text/html")
