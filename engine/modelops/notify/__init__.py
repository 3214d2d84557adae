"""Notifiers at the edge: Slack, PagerDuty, a generic webhook (Alertmanager v4 payload) and e-mail.

`base` holds what every notifier shares (the `Notifier` Protocol, the `Notification` a channel is told, delivery
results, secret reveal and masking); one module per channel type speaks its protocol; `registry` maps a channel's
`type` to its notifier. May import base and config only.
"""
