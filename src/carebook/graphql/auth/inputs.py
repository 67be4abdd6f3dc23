"""Inputs of the authentication mutations, with Healthie's names and types."""

from __future__ import annotations

import strawberry

from carebook.graphql.inputs import opt


@strawberry.input(name="signUpInput", description="Parameters for signUp.")
class SignUpInput:
    """A new account."""

    first_name: str | None = opt("Required.")
    last_name: str | None = opt("Required.")
    email: str | None = opt("Required.")
    password: str | None = opt("Required. At least 8 characters and strong enough.")
    role: str | None = opt("Required. 'patient' (or 'provider' to open a new practice).")
    dietitian_id: str | None = opt(
        "The ID of the provider to create a patient for. Required if invite_code is not present."
    )
    invite_code: str | None = opt("Invite code of a provider or user group.")
    legal_name: str | None = opt("Legal first name.")
    phone_number: str | None = opt("Phone number.")
    provider_type: str | None = opt("Accepted for compatibility; not used.")
    timezone: str | None = opt("Time zone from the IANA database, e.g. America/New_York.")


@strawberry.input(name="signInInput", description="Parameters for signIn.")
class SignInInput:
    """Email and password."""

    email: str | None = opt("User email.")
    password: str | None = opt("Password.")
    reset_token: str | None = opt(
        "Reset Token: the token of an invitation's set-password link. With password, sets the "
        "password (activating the account) and signs in; email is then not needed."
    )
    generate_api_token: bool | None = opt(
        "When true (providers/staff), an API key is also returned.", False
    )
    allow_multiple_api_keys: bool | None = opt(
        "Accepted for compatibility: Carebook always keeps earlier API keys.", False
    )
    namespace: str | None = opt(
        "Accepted for compatibility; Carebook has one namespace.", "healthie"
    )


@strawberry.input(name="signOutInput", description="Parameters for signOut.")
class SignOutInput:
    """Nothing is needed: the session is the one the request was made with."""

    clientMutationId: str | None = opt("DO NOT USE")


@strawberry.input(name="revokeTokenInput", description="Parameters for revokeToken.")
class RevokeTokenInput:
    """Nothing is needed: the credential is the one the request was made with."""

    clientMutationId: str | None = opt("DO NOT USE")
