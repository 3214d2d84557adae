"""The sections of `REPORT.md`: one module each; `modelops.report.write.SECTIONS` lists them in order.

Each appears only when its `collect` returns data (see `modelops.report.section`).
"""
