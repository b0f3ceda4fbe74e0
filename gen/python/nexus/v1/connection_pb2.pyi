import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATUS_UNSPECIFIED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_PENDING: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ACTIVE: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ATTENTION_REQUIRED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_FAILED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_REVOKED: _ClassVar[ConnectionStatus]

class ConnectionEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_EVENT_TYPE_UNSPECIFIED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_SNAPSHOT: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_CREATED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_ACTIVE: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_ATTENTION_REQUIRED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_FAILED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_REVOKED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_REFRESHED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_DELETED: _ClassVar[ConnectionEventType]
    CONNECTION_EVENT_TYPE_UPDATED: _ClassVar[ConnectionEventType]
CONNECTION_STATUS_UNSPECIFIED: ConnectionStatus
CONNECTION_STATUS_PENDING: ConnectionStatus
CONNECTION_STATUS_ACTIVE: ConnectionStatus
CONNECTION_STATUS_ATTENTION_REQUIRED: ConnectionStatus
CONNECTION_STATUS_FAILED: ConnectionStatus
CONNECTION_STATUS_REVOKED: ConnectionStatus
CONNECTION_EVENT_TYPE_UNSPECIFIED: ConnectionEventType
CONNECTION_EVENT_TYPE_SNAPSHOT: ConnectionEventType
CONNECTION_EVENT_TYPE_CREATED: ConnectionEventType
CONNECTION_EVENT_TYPE_ACTIVE: ConnectionEventType
CONNECTION_EVENT_TYPE_ATTENTION_REQUIRED: ConnectionEventType
CONNECTION_EVENT_TYPE_FAILED: ConnectionEventType
CONNECTION_EVENT_TYPE_REVOKED: ConnectionEventType
CONNECTION_EVENT_TYPE_REFRESHED: ConnectionEventType
CONNECTION_EVENT_TYPE_DELETED: ConnectionEventType
CONNECTION_EVENT_TYPE_UPDATED: ConnectionEventType

class Connection(_message.Message):
    __slots__ = ("id", "project_id", "workspace_id", "provider_id", "provider_name", "status", "status_reason", "scopes", "return_url", "fields", "superseded_by", "token_expire_time", "create_time", "update_time", "provider_subject", "provider_email")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    workspace_id: str
    provider_id: str
    provider_name: str
    status: ConnectionStatus
    status_reason: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    return_url: str
    fields: _struct_pb2.Struct
    superseded_by: str
    token_expire_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    provider_subject: str
    provider_email: str
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., provider_id: _Optional[str] = ..., provider_name: _Optional[str] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., status_reason: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., superseded_by: _Optional[str] = ..., token_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provider_subject: _Optional[str] = ..., provider_email: _Optional[str] = ...) -> None: ...

class CreateConnectionRequest(_message.Message):
    __slots__ = ("workspace_id", "provider_id", "provider_name", "scopes", "return_url", "fields", "mcp_bearer_token")
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MCP_BEARER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workspace_id: str
    provider_id: str
    provider_name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    return_url: str
    fields: _struct_pb2.Struct
    mcp_bearer_token: str
    def __init__(self, workspace_id: _Optional[str] = ..., provider_id: _Optional[str] = ..., provider_name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., mcp_bearer_token: _Optional[str] = ...) -> None: ...

class CreateConnectionResponse(_message.Message):
    __slots__ = ("connection", "auth_url", "state")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    AUTH_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    auth_url: str
    state: str
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ..., auth_url: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class GetConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "workspace_id", "provider", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    workspace_id: str
    provider: str
    status: ConnectionStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., workspace_id: _Optional[str] = ..., provider: _Optional[str] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "next_page_token")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    next_page_token: str
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class DeleteConnectionResponse(_message.Message):
    __slots__ = ("connection", "revoked_at_provider")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    revoked_at_provider: bool
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ..., revoked_at_provider: _Optional[bool] = ...) -> None: ...

class GetCredentialSchemaRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...

class GetCredentialSchemaResponse(_message.Message):
    __slots__ = ("schema", "provider_name", "provider_display_name", "connection_id", "workspace_id", "app_name")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    APP_NAME_FIELD_NUMBER: _ClassVar[int]
    schema: _struct_pb2.Struct
    provider_name: str
    provider_display_name: str
    connection_id: str
    workspace_id: str
    app_name: str
    def __init__(self, schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., provider_name: _Optional[str] = ..., provider_display_name: _Optional[str] = ..., connection_id: _Optional[str] = ..., workspace_id: _Optional[str] = ..., app_name: _Optional[str] = ...) -> None: ...

class SubmitCredentialsRequest(_message.Message):
    __slots__ = ("state", "credentials")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    state: str
    credentials: _struct_pb2.Struct
    def __init__(self, state: _Optional[str] = ..., credentials: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SubmitCredentialsResponse(_message.Message):
    __slots__ = ("connection", "redirect_url")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    redirect_url: str
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ..., redirect_url: _Optional[str] = ...) -> None: ...

class GetPendingFieldsRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class GetPendingFieldsResponse(_message.Message):
    __slots__ = ("schema",)
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    schema: _struct_pb2.Struct
    def __init__(self, schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class FinalizeConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "fields")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    fields: _struct_pb2.Struct
    def __init__(self, connection_id: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class FinalizeConnectionResponse(_message.Message):
    __slots__ = ("connection", "redirect_url")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    redirect_url: str
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ..., redirect_url: _Optional[str] = ...) -> None: ...

class ConnectionEvent(_message.Message):
    __slots__ = ("type", "connection", "event_time", "cursor")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    type: ConnectionEventType
    connection: Connection
    event_time: _timestamp_pb2.Timestamp
    cursor: str
    def __init__(self, type: _Optional[_Union[ConnectionEventType, str]] = ..., connection: _Optional[_Union[Connection, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("time", "cursor")
    TIME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    cursor: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "resume_cursor")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    resume_cursor: str
    def __init__(self, connection_id: _Optional[str] = ..., resume_cursor: _Optional[str] = ...) -> None: ...

class WatchConnectionResponse(_message.Message):
    __slots__ = ("event", "heartbeat")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event: ConnectionEvent
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[ConnectionEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class WatchConnectionsRequest(_message.Message):
    __slots__ = ("workspace_id", "provider", "resume_cursor")
    WORKSPACE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace_id: str
    provider: str
    resume_cursor: str
    def __init__(self, workspace_id: _Optional[str] = ..., provider: _Optional[str] = ..., resume_cursor: _Optional[str] = ...) -> None: ...

class WatchConnectionsResponse(_message.Message):
    __slots__ = ("event", "heartbeat")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event: ConnectionEvent
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[ConnectionEvent, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...
