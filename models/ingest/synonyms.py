"""The header names each canonical column is recognised by.

Header names are compared after :func:`normalise` (lower-cased, letters and digits
only), so ``CustomerID``, ``customer_id`` and ``Customer ID`` are one name. Both the
header sniffer and the column matcher read these lists.
"""

from __future__ import annotations

import re

TRANSACTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customerid", "customer", "custid", "customerno", "customernumber",
                    "customercode", "userid", "user", "clientid", "client", "memberid",
                    "accountid", "buyerid", "shopperid"),
    "date": ("date", "invoicedate", "orderdate", "transactiondate", "purchasedate",
             "saledate", "salesdate", "datetime", "timestamp", "orderdatetime",
             "createdat", "orderedat", "purchasedat", "day"),
    "amount": ("amount", "revenue", "total", "sales", "dollarvalue", "value", "spend",
               "totalamount", "totalprice", "totalvalue", "ordervalue", "ordertotal",
               "linetotal", "salesamount", "purchaseamount", "netamount", "grossamount",
               "monetaryvalue", "subtotal", "turnover"),
    "quantity": ("quantity", "qty", "units", "unitssold", "quantityordered", "itemcount",
                 "numberofitems", "count"),
    "unit_price": ("unitprice", "priceeach", "itemprice", "priceperunit", "unitcost",
                   "price"),
    "order_id": ("orderid", "invoiceno", "invoice", "invoiceid", "invoicenumber",
                 "orderno", "ordernumber", "order", "transactionid", "transaction",
                 "txnid", "receiptid", "receiptno", "basketid"),
    "category": ("category", "productcategory", "categoryname", "productgroup",
                 "producttype", "department"),
    "channel": ("channel", "saleschannel", "orderchannel"),
    "region": ("region", "country", "state", "province", "territory", "market"),
}
CUSTOMER_ID_SYNONYMS = TRANSACTION_SYNONYMS["customer_id"] + ("id",)
ALL_SYNONYMS = frozenset(s for names in TRANSACTION_SYNONYMS.values() for s in names) | {"id"}


def normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())
# Customer-table columns proposed as the regression target, best first: the usual
# names of a customer's spend, then the names of a transaction amount.
TARGET_SYNONYMS = ("purchaseamount", "clv", "lifetimevalue", "totalspend", "revenue",
                   "spend") + TRANSACTION_SYNONYMS["amount"]
