"""The Train page's parts: the builder's fields and the `JobSpec` they describe (`fields`), the form
(`form`), what it shows of a job (`panels`) and the replay as a GIF (`replay_gif`).
May import jobs and widgets.
"""
