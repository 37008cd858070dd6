"""items: a stateless CRUD API over a database, with GraphQL, a topic, a queue, a stream and a
nightly schedule, served by faasport."""
