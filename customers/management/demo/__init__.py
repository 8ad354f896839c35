"""The parts of `seed_demo` beyond the organisation and the customers: the chat archive
(`archive`, `scripts`) and the stories told through the services (`stories`)."""
