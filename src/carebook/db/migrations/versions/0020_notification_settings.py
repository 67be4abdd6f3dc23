"""notification_settings: the email preferences Carebook acts on, one row per user.

Healthie's ``NotificationSetting`` (issue 24). A user without a row has every preference on,
so existing users keep today's emails and nothing is back-filled; a row is written on the
first ``updateNotificationSetting``. Its key is the user's id (one setting per user).

Revision ID: 0020_notification_settings
Revises: 0019_user_activity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_notification_settings"
down_revision = "0019_user_activity"
branch_labels = None
depends_on = None

PREFERENCES = (
    "send_message_emails",
    "send_email_on_appointment_book",
    "send_email_on_appointment_cancel",
    "send_form_request_emails",
)


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        *(
            sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.true())
            for name in PREFERENCES
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )


def downgrade() -> None:
    op.drop_table("notification_settings")
