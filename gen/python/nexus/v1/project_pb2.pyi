import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from nexus.v1 import auth_pb2 as _auth_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Project(_message.Message):
    __slots__ = ("id", "name", "display_name", "allowed_return_urls", "cors_origins", "branding", "create_time", "update_time", "quotas", "effective_quotas")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_RETURN_URLS_FIELD_NUMBER: _ClassVar[int]
    CORS_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    BRANDING_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_QUOTAS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    display_name: str
    allowed_return_urls: _containers.RepeatedScalarFieldContainer[str]
    cors_origins: _containers.RepeatedScalarFieldContainer[str]
    branding: _auth_pb2.Branding
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    quotas: ProjectQuotas
    effective_quotas: ProjectQuotas
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ..., allowed_return_urls: _Optional[_Iterable[str]] = ..., cors_origins: _Optional[_Iterable[str]] = ..., branding: _Optional[_Union[_auth_pb2.Branding, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., quotas: _Optional[_Union[ProjectQuotas, _Mapping]] = ..., effective_quotas: _Optional[_Union[ProjectQuotas, _Mapping]] = ...) -> None: ...

class ProjectQuotas(_message.Message):
    __slots__ = ("key_rate_per_second", "key_burst", "ip_rate_per_second", "ip_burst")
    KEY_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    KEY_BURST_FIELD_NUMBER: _ClassVar[int]
    IP_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    IP_BURST_FIELD_NUMBER: _ClassVar[int]
    key_rate_per_second: int
    key_burst: int
    ip_rate_per_second: int
    ip_burst: int
    def __init__(self, key_rate_per_second: _Optional[int] = ..., key_burst: _Optional[int] = ..., ip_rate_per_second: _Optional[int] = ..., ip_burst: _Optional[int] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class GetProjectRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    next_page_token: str
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateProjectRequest(_message.Message):
    __slots__ = ("project", "update_mask")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    project: Project
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class DeleteProjectRequest(_message.Message):
    __slots__ = ("project_id", "force")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    force: bool
    def __init__(self, project_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteProjectResponse(_message.Message):
    __slots__ = ("revoked_connections",)
    REVOKED_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    revoked_connections: int
    def __init__(self, revoked_connections: _Optional[int] = ...) -> None: ...
