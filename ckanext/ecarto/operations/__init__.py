"""Operations that heal themselves (issue 19): the answer of the portal while PostgreSQL or Redis
cannot be reached (``outage``), and the commands that keep its background work going
(``commands``: the jobs worker with retries, the list of jobs, the periodic check)."""
