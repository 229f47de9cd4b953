"""The web UI: server-rendered Jinja2 pages that go live over the API's event streams.

Pages get their data by calling the same route functions the API answers with, so a
page never computes what the API already answers. Live regions re-fetch their own
server-rendered fragment (`?part=<name>`) when a stream says something changed, so
each piece of markup has one template, used for the first render and every update.
"""
