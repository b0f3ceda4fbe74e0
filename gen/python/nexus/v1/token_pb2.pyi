import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from nexus.v1 import provider_pb2 as _provider_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StrategyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STRATEGY_TYPE_UNSPECIFIED: _ClassVar[StrategyType]
    STRATEGY_TYPE_OAUTH2: _ClassVar[StrategyType]
    STRATEGY_TYPE_API_KEY: _ClassVar[StrategyType]
    STRATEGY_TYPE_BASIC_AUTH: _ClassVar[StrategyType]
    STRATEGY_TYPE_AWS_SIGV4: _ClassVar[StrategyType]
    STRATEGY_TYPE_BEARER: _ClassVar[StrategyType]
STRATEGY_TYPE_UNSPECIFIED: StrategyType
STRATEGY_TYPE_OAUTH2: StrategyType
STRATEGY_TYPE_API_KEY: StrategyType
STRATEGY_TYPE_BASIC_AUTH: StrategyType
STRATEGY_TYPE_AWS_SIGV4: StrategyType
STRATEGY_TYPE_BEARER: StrategyType

class Strategy(_message.Message):
    __slots__ = ("type", "api_key")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    type: StrategyType
    api_key: _provider_pb2.ApiKeySettings
    def __init__(self, type: _Optional[_Union[StrategyType, str]] = ..., api_key: _Optional[_Union[_provider_pb2.ApiKeySettings, _Mapping]] = ...) -> None: ...

class OAuth2Credentials(_message.Message):
    __slots__ = ("access_token", "token_type", "scopes")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    token_type: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, access_token: _Optional[str] = ..., token_type: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class ApiKeyCredentials(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    def __init__(self, api_key: _Optional[str] = ...) -> None: ...

class BasicAuthCredentials(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class AwsSigV4Credentials(_message.Message):
    __slots__ = ("access_key_id", "secret_access_key", "session_token", "region", "service")
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_ACCESS_KEY_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    access_key_id: str
    secret_access_key: str
    session_token: str
    region: str
    service: str
    def __init__(self, access_key_id: _Optional[str] = ..., secret_access_key: _Optional[str] = ..., session_token: _Optional[str] = ..., region: _Optional[str] = ..., service: _Optional[str] = ...) -> None: ...

class BearerCredentials(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class GetTokenRequest(_message.Message):
    __slots__ = ("connection_id", "min_remaining")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REMAINING_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    min_remaining: _duration_pb2.Duration
    def __init__(self, connection_id: _Optional[str] = ..., min_remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Credential(_message.Message):
    __slots__ = ("connection_id", "strategy", "oauth2", "api_key", "basic_auth", "aws_sigv4", "bearer", "expire_time", "extra")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    BASIC_AUTH_FIELD_NUMBER: _ClassVar[int]
    AWS_SIGV4_FIELD_NUMBER: _ClassVar[int]
    BEARER_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    strategy: Strategy
    oauth2: OAuth2Credentials
    api_key: ApiKeyCredentials
    basic_auth: BasicAuthCredentials
    aws_sigv4: AwsSigV4Credentials
    bearer: BearerCredentials
    expire_time: _timestamp_pb2.Timestamp
    extra: _struct_pb2.Struct
    def __init__(self, connection_id: _Optional[str] = ..., strategy: _Optional[_Union[Strategy, _Mapping]] = ..., oauth2: _Optional[_Union[OAuth2Credentials, _Mapping]] = ..., api_key: _Optional[_Union[ApiKeyCredentials, _Mapping]] = ..., basic_auth: _Optional[_Union[BasicAuthCredentials, _Mapping]] = ..., aws_sigv4: _Optional[_Union[AwsSigV4Credentials, _Mapping]] = ..., bearer: _Optional[_Union[BearerCredentials, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetTokenResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: Credential
    def __init__(self, credential: _Optional[_Union[Credential, _Mapping]] = ...) -> None: ...

class RefreshTokenRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class RefreshTokenResponse(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: Credential
    def __init__(self, credential: _Optional[_Union[Credential, _Mapping]] = ...) -> None: ...
