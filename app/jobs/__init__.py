"""The training queue: what a job trains (`spec`), who may queue what (`admission`: a job's cost, a
device's share), the server-wide queue (`queue`), training one job (`runner`), in a child process
(`process`), the snapshot pages read (`snapshot`), who may save under which name (`names`) and loss
curves (`loss_history`).

No Streamlit here (a test checks it): pages reach the queue through `queue.get_queue()`.
Imports models/ and app.settings only.
"""
