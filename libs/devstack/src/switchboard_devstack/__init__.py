"""Local real servers for `make run` and `make test`: PostgreSQL, a Redis-compatible server and a
Kafka-protocol broker, all from PyPI wheels, each a child process that dies with its parent."""

from switchboard_devstack.servers import KafkaServer, LocalStack, PostgresServer, RedisServer, free_port

__all__ = ["KafkaServer", "LocalStack", "PostgresServer", "RedisServer", "free_port"]
