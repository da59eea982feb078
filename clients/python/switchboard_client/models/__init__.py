"""Contains all the data models used in inputs/outputs"""

from .account_routing import AccountRouting
from .account_routing_channel_weights import AccountRoutingChannelWeights
from .account_routing_out import AccountRoutingOut
from .account_routing_out_channel_weights import AccountRoutingOutChannelWeights
from .agent_create import AgentCreate
from .agent_create_role import AgentCreateRole
from .agent_out import AgentOut
from .agent_out_role import AgentOutRole
from .agent_update import AgentUpdate
from .agent_update_role import AgentUpdateRole
from .api_inbox_create import ApiInboxCreate
from .api_settings import ApiSettings
from .api_settings_update import ApiSettingsUpdate
from .api_token_create import ApiTokenCreate
from .api_token_create_scopes_item import ApiTokenCreateScopesItem
from .api_token_created import ApiTokenCreated
from .api_token_out import ApiTokenOut
from .assign_request import AssignRequest
from .bot_config_in import BotConfigIn
from .bot_out import BotOut
from .bot_out_handoff_routing import BotOutHandoffRouting
from .business_hours import BusinessHours
from .business_hours_timezone import BusinessHoursTimezone
from .business_hours_weekly import BusinessHoursWeekly
from .canned_response_create import CannedResponseCreate
from .canned_response_out import CannedResponseOut
from .canned_response_update import CannedResponseUpdate
from .consent_given import ConsentGiven
from .contact_hit import ContactHit
from .contact_hit_custom_attributes import ContactHitCustomAttributes
from .contact_out import ContactOut
from .contact_out_custom_attributes import ContactOutCustomAttributes
from .contact_update import ContactUpdate
from .contact_update_custom_attributes import ContactUpdateCustomAttributes
from .conversation_out import ConversationOut
from .conversation_out_csat_type_0 import ConversationOutCsatType0
from .conversation_out_routing_explanation_type_0 import ConversationOutRoutingExplanationType0
from .conversation_out_sla_type_0 import ConversationOutSlaType0
from .csat_answer import CsatAnswer
from .csat_out import CsatOut
from .csat_settings import CsatSettings
from .csat_settings_language import CsatSettingsLanguage
from .csat_settings_out import CsatSettingsOut
from .csat_settings_out_language import CsatSettingsOutLanguage
from .delivery_out import DeliveryOut
from .error import Error
from .error_error import ErrorError
from .handoff_routing import HandoffRouting
from .hit_page_contact_hit import HitPageContactHit
from .hit_page_message_hit import HitPageMessageHit
from .identity_out import IdentityOut
from .inbox_out import InboxOut
from .inbox_out_channel import InboxOutChannel
from .inbox_out_settings import InboxOutSettings
from .inbox_routing import InboxRouting
from .inbox_routing_out import InboxRoutingOut
from .inbox_routing_out_business_hours_type_0 import InboxRoutingOutBusinessHoursType0
from .inbox_routing_out_strategy import InboxRoutingOutStrategy
from .inbox_routing_strategy import InboxRoutingStrategy
from .inbox_update import InboxUpdate
from .ip_allowlist import IpAllowlist
from .label_create import LabelCreate
from .label_out import LabelOut
from .label_update import LabelUpdate
from .labels_update import LabelsUpdate
from .last_message_out import LastMessageOut
from .last_message_out_direction import LastMessageOutDirection
from .list_conversations_assignee_type_0 import ListConversationsAssigneeType0
from .list_conversations_sort import ListConversationsSort
from .list_conversations_status_type_0 import ListConversationsStatusType0
from .liveness import Liveness
from .login_request import LoginRequest
from .me_out import MeOut
from .me_out_role import MeOutRole
from .message_hit import MessageHit
from .message_out import MessageOut
from .message_out_attachments_item import MessageOutAttachmentsItem
from .message_out_direction import MessageOutDirection
from .messenger_inbox_create import MessengerInboxCreate
from .messenger_settings import MessengerSettings
from .messenger_settings_update import MessengerSettingsUpdate
from .note_create import NoteCreate
from .note_out import NoteOut
from .password_change import PasswordChange
from .policy_create_type_0 import PolicyCreateType0
from .policy_create_type_1 import PolicyCreateType1
from .policy_create_type_2 import PolicyCreateType2
from .policy_out import PolicyOut
from .policy_update import PolicyUpdate
from .policy_update_pause_statuses_item import PolicyUpdatePauseStatusesItem
from .presence_out import PresenceOut
from .presence_update import PresenceUpdate
from .presence_update_status import PresenceUpdateStatus
from .private_note_create import PrivateNoteCreate
from .processing_record_response_processing_record import ProcessingRecordResponseProcessingRecord
from .quantiles import Quantiles
from .queue_entry import QueueEntry
from .readiness import Readiness
from .readiness_dependencies import ReadinessDependencies
from .refresh_request import RefreshRequest
from .reply_create import ReplyCreate
from .report_live_response_report_live import ReportLiveResponseReportLive
from .report_summary_format import ReportSummaryFormat
from .report_summary_group_by import ReportSummaryGroupBy
from .search_out import SearchOut
from .search_status_type_0 import SearchStatusType0
from .search_type import SearchType
from .secret_out import SecretOut
from .security_event_out import SecurityEventOut
from .security_event_out_details import SecurityEventOutDetails
from .security_policy import SecurityPolicy
from .session_out import SessionOut
from .signup_request import SignupRequest
from .signup_response import SignupResponse
from .slack_inbox_create import SlackInboxCreate
from .slack_mirror_in import SlackMirrorIn
from .slack_settings import SlackSettings
from .slack_settings_update import SlackSettingsUpdate
from .snooze_for import SnoozeFor
from .snooze_until import SnoozeUntil
from .spam_verdict import SpamVerdict
from .subprocessors_response_subprocessors import SubprocessorsResponseSubprocessors
from .subscription_create import SubscriptionCreate
from .subscription_create_events_item import SubscriptionCreateEventsItem
from .subscription_out import SubscriptionOut
from .subscription_update import SubscriptionUpdate
from .subscription_update_events_item import SubscriptionUpdateEventsItem
from .summary import Summary
from .summary_group import SummaryGroup
from .team_create import TeamCreate
from .team_create_strategy_type_0 import TeamCreateStrategyType0
from .team_out import TeamOut
from .team_update import TeamUpdate
from .team_update_strategy_type_0 import TeamUpdateStrategyType0
from .time_zone_setting import TimeZoneSetting
from .time_zone_setting_timezone import TimeZoneSettingTimezone
from .token_response import TokenResponse
from .totp_code import TotpCode
from .totp_confirmed import TotpConfirmed
from .totp_disable import TotpDisable
from .totp_enrollment import TotpEnrollment
from .transfer_to_agent import TransferToAgent
from .transfer_to_team import TransferToTeam
from .visibility_in import VisibilityIn
from .visibility_in_agents_see import VisibilityInAgentsSee
from .visibility_out import VisibilityOut
from .visibility_out_agents_see import VisibilityOutAgentsSee
from .visitor_message_accepted import VisitorMessageAccepted
from .visitor_message_create import VisitorMessageCreate
from .visitor_message_out import VisitorMessageOut
from .visitor_session_create import VisitorSessionCreate
from .visitor_session_out import VisitorSessionOut
from .web_inbox_create import WebInboxCreate
from .web_settings import WebSettings
from .web_settings_translations import WebSettingsTranslations
from .web_settings_update import WebSettingsUpdate
from .web_settings_update_translations import WebSettingsUpdateTranslations
from .widget_config import WidgetConfig
from .widget_config_translations import WidgetConfigTranslations
from .widget_config_translations_additional_property import WidgetConfigTranslationsAdditionalProperty

__all__ = (
    "AccountRouting",
    "AccountRoutingChannelWeights",
    "AccountRoutingOut",
    "AccountRoutingOutChannelWeights",
    "AgentCreate",
    "AgentCreateRole",
    "AgentOut",
    "AgentOutRole",
    "AgentUpdate",
    "AgentUpdateRole",
    "ApiInboxCreate",
    "ApiSettings",
    "ApiSettingsUpdate",
    "ApiTokenCreate",
    "ApiTokenCreated",
    "ApiTokenCreateScopesItem",
    "ApiTokenOut",
    "AssignRequest",
    "BotConfigIn",
    "BotOut",
    "BotOutHandoffRouting",
    "BusinessHours",
    "BusinessHoursTimezone",
    "BusinessHoursWeekly",
    "CannedResponseCreate",
    "CannedResponseOut",
    "CannedResponseUpdate",
    "ConsentGiven",
    "ContactHit",
    "ContactHitCustomAttributes",
    "ContactOut",
    "ContactOutCustomAttributes",
    "ContactUpdate",
    "ContactUpdateCustomAttributes",
    "ConversationOut",
    "ConversationOutCsatType0",
    "ConversationOutRoutingExplanationType0",
    "ConversationOutSlaType0",
    "CsatAnswer",
    "CsatOut",
    "CsatSettings",
    "CsatSettingsLanguage",
    "CsatSettingsOut",
    "CsatSettingsOutLanguage",
    "DeliveryOut",
    "Error",
    "ErrorError",
    "HandoffRouting",
    "HitPageContactHit",
    "HitPageMessageHit",
    "IdentityOut",
    "InboxOut",
    "InboxOutChannel",
    "InboxOutSettings",
    "InboxRouting",
    "InboxRoutingOut",
    "InboxRoutingOutBusinessHoursType0",
    "InboxRoutingOutStrategy",
    "InboxRoutingStrategy",
    "InboxUpdate",
    "IpAllowlist",
    "LabelCreate",
    "LabelOut",
    "LabelsUpdate",
    "LabelUpdate",
    "LastMessageOut",
    "LastMessageOutDirection",
    "ListConversationsAssigneeType0",
    "ListConversationsSort",
    "ListConversationsStatusType0",
    "Liveness",
    "LoginRequest",
    "MeOut",
    "MeOutRole",
    "MessageHit",
    "MessageOut",
    "MessageOutAttachmentsItem",
    "MessageOutDirection",
    "MessengerInboxCreate",
    "MessengerSettings",
    "MessengerSettingsUpdate",
    "NoteCreate",
    "NoteOut",
    "PasswordChange",
    "PolicyCreateType0",
    "PolicyCreateType1",
    "PolicyCreateType2",
    "PolicyOut",
    "PolicyUpdate",
    "PolicyUpdatePauseStatusesItem",
    "PresenceOut",
    "PresenceUpdate",
    "PresenceUpdateStatus",
    "PrivateNoteCreate",
    "ProcessingRecordResponseProcessingRecord",
    "Quantiles",
    "QueueEntry",
    "Readiness",
    "ReadinessDependencies",
    "RefreshRequest",
    "ReplyCreate",
    "ReportLiveResponseReportLive",
    "ReportSummaryFormat",
    "ReportSummaryGroupBy",
    "SearchOut",
    "SearchStatusType0",
    "SearchType",
    "SecretOut",
    "SecurityEventOut",
    "SecurityEventOutDetails",
    "SecurityPolicy",
    "SessionOut",
    "SignupRequest",
    "SignupResponse",
    "SlackInboxCreate",
    "SlackMirrorIn",
    "SlackSettings",
    "SlackSettingsUpdate",
    "SnoozeFor",
    "SnoozeUntil",
    "SpamVerdict",
    "SubprocessorsResponseSubprocessors",
    "SubscriptionCreate",
    "SubscriptionCreateEventsItem",
    "SubscriptionOut",
    "SubscriptionUpdate",
    "SubscriptionUpdateEventsItem",
    "Summary",
    "SummaryGroup",
    "TeamCreate",
    "TeamCreateStrategyType0",
    "TeamOut",
    "TeamUpdate",
    "TeamUpdateStrategyType0",
    "TimeZoneSetting",
    "TimeZoneSettingTimezone",
    "TokenResponse",
    "TotpCode",
    "TotpConfirmed",
    "TotpDisable",
    "TotpEnrollment",
    "TransferToAgent",
    "TransferToTeam",
    "VisibilityIn",
    "VisibilityInAgentsSee",
    "VisibilityOut",
    "VisibilityOutAgentsSee",
    "VisitorMessageAccepted",
    "VisitorMessageCreate",
    "VisitorMessageOut",
    "VisitorSessionCreate",
    "VisitorSessionOut",
    "WebInboxCreate",
    "WebSettings",
    "WebSettingsTranslations",
    "WebSettingsUpdate",
    "WebSettingsUpdateTranslations",
    "WidgetConfig",
    "WidgetConfigTranslations",
    "WidgetConfigTranslationsAdditionalProperty",
)
