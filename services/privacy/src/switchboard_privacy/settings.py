from pydantic import Field
from switchboard_common.infra.settings import CommonSettings


class PrivacySettings(CommonSettings):
    service_name: str = "privacy"
    host: str = "0.0.0.0"
    port: int = 8003

    # Data-subject request deadlines: an account's own (settings.privacy_deadline_days) or this default,
    # never above the law's (GDPR: one month, taken as 30 days; CCPA: 45 days).
    privacy_default_deadline_days: int = Field(default=7, ge=1)
    privacy_near_due_hours: int = Field(default=48, ge=1)
    privacy_worker_interval_seconds: float = Field(default=1.0, gt=0)
    privacy_lease_seconds: float = Field(default=60.0, gt=0)
    privacy_retry_base_seconds: float = Field(default=2.0, ge=0)
    privacy_export_link_seconds: int = Field(default=24 * 3600, ge=60)
    # Subject self-confirmation through the channel (requests/confirmation.py).
    privacy_confirmation_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    privacy_confirmation_max_attempts: int = Field(default=5, ge=1, le=20)
    privacy_confirmation_max_prompts: int = Field(default=3, ge=1, le=20)
    # Public base URL of the API (e.g. https://support.example.com): confirmation prompts carry a link under
    # it; without it they carry the code only.
    privacy_public_url: str = ""

    # Account lifecycle (days; tests shorten them or drive the clock).
    lifecycle_trial_days: int = 14
    lifecycle_billing_grace_days: int = 7
    lifecycle_suspended_days: int = 60
    lifecycle_terminated_days: int = 30
    lifecycle_interval_seconds: float = Field(default=60.0, gt=0)

    # Retention sweeps: rows per batch and the pause between batches (never hold locks long).
    retention_batch_size: int = Field(default=500, ge=1)
    retention_interval_seconds: float = Field(default=30.0, gt=0)
