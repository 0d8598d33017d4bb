#!/bin/sh
# Gives each service that publishes events Stockroom consumes a RabbitMQ user of its own, allowed
# to write to its exchange only (nothing to configure, nothing to read). RabbitMQ checks the
# `user_id` a message carries against the user that published it, and Stockroom believes an event
# only from the users of ORDER_EVENT_PUBLISHERS / CATALOG_EVENT_PUBLISHERS (docs/operations.md).
# Run once the broker answers; running it again changes nothing but the passwords.
set -eu

admin() {
  rabbitmqadmin --host "${RABBITMQ_HOST:-rabbitmq}" --username "${RABBITMQ_USER:-stockroom}" --password "$RABBITMQ_PASSWORD" "$@"
}

# publisher user, its password, the exchange it may write to (a regular expression matching that name only)
publisher() {
  admin declare exchange name="$3" type=topic durable=true
  admin declare user name="$1" password="$2" tags=
  admin declare permission vhost=/ user="$1" configure='^$' write="^$(printf '%s' "$3" | sed 's/\./\\./g')\$" read='^$'
}

publisher "${ORDERS_PUBLISHER_USER:-orders-svc}" "$ORDERS_PUBLISHER_PASSWORD" "${ORDERS_EXCHANGE:-orders.events}"
publisher "${CATALOG_PUBLISHER_USER:-catalog-svc}" "$CATALOG_PUBLISHER_PASSWORD" "${CATALOG_EXCHANGE:-catalog.events}"
