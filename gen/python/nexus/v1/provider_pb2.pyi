import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuthType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTH_TYPE_UNSPECIFIED: _ClassVar[AuthType]
    AUTH_TYPE_OAUTH2: _ClassVar[AuthType]
    AUTH_TYPE_API_KEY: _ClassVar[AuthType]
    AUTH_TYPE_BASIC_AUTH: _ClassVar[AuthType]
    AUTH_TYPE_AWS_SIGV4: _ClassVar[AuthType]
    AUTH_TYPE_BEARER: _ClassVar[AuthType]
    AUTH_TYPE_MCP: _ClassVar[AuthType]

class ClientAuthMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLIENT_AUTH_METHOD_UNSPECIFIED: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_CLIENT_SECRET_BASIC: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_CLIENT_SECRET_POST: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_NONE: _ClassVar[ClientAuthMethod]

class TokenResponseFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_RESPONSE_FORMAT_UNSPECIFIED: _ClassVar[TokenResponseFormat]
    TOKEN_RESPONSE_FORMAT_JSON: _ClassVar[TokenResponseFormat]
    TOKEN_RESPONSE_FORMAT_FORM: _ClassVar[TokenResponseFormat]

class RefreshTokenRotation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFRESH_TOKEN_ROTATION_UNSPECIFIED: _ClassVar[RefreshTokenRotation]
    REFRESH_TOKEN_ROTATION_ROTATES: _ClassVar[RefreshTokenRotation]
    REFRESH_TOKEN_ROTATION_STABLE: _ClassVar[RefreshTokenRotation]

class Pkce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PKCE_UNSPECIFIED: _ClassVar[Pkce]
    PKCE_S256: _ClassVar[Pkce]
    PKCE_UNSUPPORTED: _ClassVar[Pkce]

class ApiKeyLocation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    API_KEY_LOCATION_UNSPECIFIED: _ClassVar[ApiKeyLocation]
    API_KEY_LOCATION_HEADER: _ClassVar[ApiKeyLocation]
    API_KEY_LOCATION_QUERY: _ClassVar[ApiKeyLocation]
AUTH_TYPE_UNSPECIFIED: AuthType
AUTH_TYPE_OAUTH2: AuthType
AUTH_TYPE_API_KEY: AuthType
AUTH_TYPE_BASIC_AUTH: AuthType
AUTH_TYPE_AWS_SIGV4: AuthType
AUTH_TYPE_BEARER: AuthType
AUTH_TYPE_MCP: AuthType
CLIENT_AUTH_METHOD_UNSPECIFIED: ClientAuthMethod
CLIENT_AUTH_METHOD_CLIENT_SECRET_BASIC: ClientAuthMethod
CLIENT_AUTH_METHOD_CLIENT_SECRET_POST: ClientAuthMethod
CLIENT_AUTH_METHOD_NONE: ClientAuthMethod
TOKEN_RESPONSE_FORMAT_UNSPECIFIED: TokenResponseFormat
TOKEN_RESPONSE_FORMAT_JSON: TokenResponseFormat
TOKEN_RESPONSE_FORMAT_FORM: TokenResponseFormat
REFRESH_TOKEN_ROTATION_UNSPECIFIED: RefreshTokenRotation
REFRESH_TOKEN_ROTATION_ROTATES: RefreshTokenRotation
REFRESH_TOKEN_ROTATION_STABLE: RefreshTokenRotation
PKCE_UNSPECIFIED: Pkce
PKCE_S256: Pkce
PKCE_UNSUPPORTED: Pkce
API_KEY_LOCATION_UNSPECIFIED: ApiKeyLocation
API_KEY_LOCATION_HEADER: ApiKeyLocation
API_KEY_LOCATION_QUERY: ApiKeyLocation

class UserinfoPaths(_message.Message):
    __slots__ = ("subject", "email")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    subject: str
    email: str
    def __init__(self, subject: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class TokenResponsePaths(_message.Message):
    __slots__ = ("access_token", "refresh_token", "expires_in", "scope")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    refresh_token: str
    expires_in: str
    scope: str
    def __init__(self, access_token: _Optional[str] = ..., refresh_token: _Optional[str] = ..., expires_in: _Optional[str] = ..., scope: _Optional[str] = ...) -> None: ...

class OAuth2Settings(_message.Message):
    __slots__ = ("client_id", "client_secret", "client_secret_set", "authorization_url", "token_url", "revocation_url", "issuer", "default_scopes", "scope_separator", "authorize_params", "client_auth_method", "pkce", "userinfo_url", "userinfo_paths", "token_response_format", "token_params", "token_response_paths", "refresh_token_rotation", "expected_issuer")
    class AuthorizeParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TokenParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_SET_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_URL_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SCOPES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_SEPARATOR_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZE_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    PKCE_FIELD_NUMBER: _ClassVar[int]
    USERINFO_URL_FIELD_NUMBER: _ClassVar[int]
    USERINFO_PATHS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PARAMS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_RESPONSE_PATHS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_ROTATION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_ISSUER_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_secret: str
    client_secret_set: bool
    authorization_url: str
    token_url: str
    revocation_url: str
    issuer: str
    default_scopes: _containers.RepeatedScalarFieldContainer[str]
    scope_separator: str
    authorize_params: _containers.ScalarMap[str, str]
    client_auth_method: ClientAuthMethod
    pkce: Pkce
    userinfo_url: str
    userinfo_paths: UserinfoPaths
    token_response_format: TokenResponseFormat
    token_params: _containers.ScalarMap[str, str]
    token_response_paths: TokenResponsePaths
    refresh_token_rotation: RefreshTokenRotation
    expected_issuer: str
    def __init__(self, client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., client_secret_set: _Optional[bool] = ..., authorization_url: _Optional[str] = ..., token_url: _Optional[str] = ..., revocation_url: _Optional[str] = ..., issuer: _Optional[str] = ..., default_scopes: _Optional[_Iterable[str]] = ..., scope_separator: _Optional[str] = ..., authorize_params: _Optional[_Mapping[str, str]] = ..., client_auth_method: _Optional[_Union[ClientAuthMethod, str]] = ..., pkce: _Optional[_Union[Pkce, str]] = ..., userinfo_url: _Optional[str] = ..., userinfo_paths: _Optional[_Union[UserinfoPaths, _Mapping]] = ..., token_response_format: _Optional[_Union[TokenResponseFormat, str]] = ..., token_params: _Optional[_Mapping[str, str]] = ..., token_response_paths: _Optional[_Union[TokenResponsePaths, _Mapping]] = ..., refresh_token_rotation: _Optional[_Union[RefreshTokenRotation, str]] = ..., expected_issuer: _Optional[str] = ...) -> None: ...

class ApiKeySettings(_message.Message):
    __slots__ = ("location", "name", "prefix", "field")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    location: ApiKeyLocation
    name: str
    prefix: str
    field: str
    def __init__(self, location: _Optional[_Union[ApiKeyLocation, str]] = ..., name: _Optional[str] = ..., prefix: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class AwsSigV4Settings(_message.Message):
    __slots__ = ("service", "default_region")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_REGION_FIELD_NUMBER: _ClassVar[int]
    service: str
    default_region: str
    def __init__(self, service: _Optional[str] = ..., default_region: _Optional[str] = ...) -> None: ...

class McpSettings(_message.Message):
    __slots__ = ("server_url", "client_id", "client_secret", "client_secret_set", "default_scopes", "registered_client_id")
    SERVER_URL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_SET_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SCOPES_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    server_url: str
    client_id: str
    client_secret: str
    client_secret_set: bool
    default_scopes: _containers.RepeatedScalarFieldContainer[str]
    registered_client_id: str
    def __init__(self, server_url: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., client_secret_set: _Optional[bool] = ..., default_scopes: _Optional[_Iterable[str]] = ..., registered_client_id: _Optional[str] = ...) -> None: ...

class Provider(_message.Message):
    __slots__ = ("id", "name", "display_name", "description", "logo_url", "categories", "auth_type", "enabled", "oauth2", "credential_schema", "post_oauth_fields_schema", "api_key", "aws_sigv4", "create_time", "update_time", "catalog_name", "connection_fields_schema", "mcp", "api_base_url")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LOGO_URL_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    POST_OAUTH_FIELDS_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    AWS_SIGV4_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CATALOG_NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELDS_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    MCP_FIELD_NUMBER: _ClassVar[int]
    API_BASE_URL_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    display_name: str
    description: str
    logo_url: str
    categories: _containers.RepeatedScalarFieldContainer[str]
    auth_type: AuthType
    enabled: bool
    oauth2: OAuth2Settings
    credential_schema: _struct_pb2.Struct
    post_oauth_fields_schema: _struct_pb2.Struct
    api_key: ApiKeySettings
    aws_sigv4: AwsSigV4Settings
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    catalog_name: str
    connection_fields_schema: _struct_pb2.Struct
    mcp: McpSettings
    api_base_url: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., logo_url: _Optional[str] = ..., categories: _Optional[_Iterable[str]] = ..., auth_type: _Optional[_Union[AuthType, str]] = ..., enabled: _Optional[bool] = ..., oauth2: _Optional[_Union[OAuth2Settings, _Mapping]] = ..., credential_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., post_oauth_fields_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., api_key: _Optional[_Union[ApiKeySettings, _Mapping]] = ..., aws_sigv4: _Optional[_Union[AwsSigV4Settings, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., catalog_name: _Optional[str] = ..., connection_fields_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., mcp: _Optional[_Union[McpSettings, _Mapping]] = ..., api_base_url: _Optional[str] = ...) -> None: ...

class CatalogProvider(_message.Message):
    __slots__ = ("name", "docs_url", "provider")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCS_URL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    name: str
    docs_url: str
    provider: Provider
    def __init__(self, name: _Optional[str] = ..., docs_url: _Optional[str] = ..., provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class ListCatalogProvidersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "category")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    category: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., category: _Optional[str] = ...) -> None: ...

class ListCatalogProvidersResponse(_message.Message):
    __slots__ = ("providers", "next_page_token")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[CatalogProvider]
    next_page_token: str
    def __init__(self, providers: _Optional[_Iterable[_Union[CatalogProvider, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCatalogProviderRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetCatalogProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: CatalogProvider
    def __init__(self, provider: _Optional[_Union[CatalogProvider, _Mapping]] = ...) -> None: ...

class EnableCatalogProviderRequest(_message.Message):
    __slots__ = ("catalog_name", "name", "client_id", "client_secret", "default_scopes", "enabled")
    CATALOG_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SCOPES_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    catalog_name: str
    name: str
    client_id: str
    client_secret: str
    default_scopes: _containers.RepeatedScalarFieldContainer[str]
    enabled: bool
    def __init__(self, catalog_name: _Optional[str] = ..., name: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., default_scopes: _Optional[_Iterable[str]] = ..., enabled: _Optional[bool] = ...) -> None: ...

class EnableCatalogProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ("project_id", "page_size", "page_token", "category")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page_size: int
    page_token: str
    category: str
    def __init__(self, project_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., category: _Optional[str] = ...) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers", "next_page_token")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    next_page_token: str
    def __init__(self, providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetProviderRequest(_message.Message):
    __slots__ = ("project_id", "provider")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    provider: str
    def __init__(self, project_id: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class GetProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class CreateProviderRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class CreateProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class UpdateProviderRequest(_message.Message):
    __slots__ = ("provider", "update_mask")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProviderResponse(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    def __init__(self, provider: _Optional[_Union[Provider, _Mapping]] = ...) -> None: ...

class DeleteProviderRequest(_message.Message):
    __slots__ = ("provider", "force")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    force: bool
    def __init__(self, provider: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteProviderResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
