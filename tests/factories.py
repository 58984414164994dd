from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from connectors import crypto
from connectors.models import Connector, ConnectorDefinition
from workspaces.models import Membership, Role, Workspace
from workspaces.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.OWNER


class ConnectorFactory(factory.django.DjangoModelFactory):
    """A connector stored directly (no validation): for tests that need one quickly, not for validation tests."""

    class Meta:
        model = Connector
        exclude = ("credentials",)

    workspace = factory.SubFactory(WorkspaceFactory)
    definition = factory.LazyFunction(lambda: ConnectorDefinition.objects.get(slug="stripe"))
    name = factory.Sequence(lambda n: f"Connector {n}")
    auth_scheme = "api_key"
    credentials = factory.LazyFunction(lambda: {"api_key": "sk_test_factory"})
    credentials_encrypted = factory.LazyAttribute(lambda o: crypto.encrypt_json(o.credentials))
    replication_config = factory.LazyFunction(dict)


def api_key_for(workspace: Workspace, name: str = "test key") -> str:
    return api_key_create(workspace=workspace, name=name)[1]
