from switchboard_common.infra.settings import CommonSettings


class ConnectorSettings(CommonSettings):
    service_name: str = "connectors"
    host: str = "0.0.0.0"
    port: int = 8001
    # Public base URL of this deployment (OAuth redirect URIs).
    public_url: str = "http://127.0.0.1:8000"

    slack_signing_secret: str = ""
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_scopes: str = (
        "chat:write,channels:history,groups:history,im:history,mpim:history,users:read,users:read.email,files:read,"
        "incoming-webhook"
    )
    # Bounded in-handler patience for Slack's rate limits before the event goes back to Kafka.
    slack_max_wait_seconds: float = 30.0
    # Files customers share are fetched (with the bot token) only from these hosts, up to this size.
    slack_file_hosts: str = "files.slack.com"
    slack_file_max_bytes: int = 25_000_000

    messenger_verify_token: str = ""
    messenger_app_secret: str = ""
    # Bounded in-handler patience for Graph rate limits before the reply goes back to Kafka.
    messenger_max_wait_seconds: float = 20.0
    # This Meta app's id: tells handover notifications that name us from those naming another app.
    messenger_app_id: str = ""

    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    dialogflow_timeout_seconds: float = 8.0
    # Fulfillment webhook basic auth (empty user: the webhook answers 503).
    dialogflow_webhook_user: str = ""
    dialogflow_webhook_password: str = ""
