"""Topics of the cache-invalidation broadcast; the message is what to drop ("*" for all)."""

KEYS_TOPIC = "keys"    # message: a key hash
USERS_TOPIC = "users"  # message: a user id
ALL = "*"
