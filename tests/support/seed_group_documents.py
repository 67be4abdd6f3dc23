"""The seed's User Groups documents, verbatim (Healthie's patient management documentation)."""

CREATE_GROUP = """mutation createGroup($name: String) { createGroup(input: { name: $name }) { user_group { id name } messages { field message } }}"""  # noqa: E501

GET_USER_GROUP = (
    """query getUserGroup($id: ID) { userGroup(id: $id) { id name users_count invite_code }}"""
)

UPDATE_USER_GROUP = """mutation updateUserGroup($id: ID, $name: String, $onboarding_flow_id: ID) { updateUserGroup(input: { id: $id, name: $name, onboarding_flow_id: $onboarding_flow_id }) { user_group { id name } messages { field message } }}"""  # noqa: E501

DELETE_USER_GROUP = """mutation deleteUserGroup($id: ID!, $group_to_receive_clients: ID) { deleteUserGroup(input: { id: $id, group_to_receive_clients: $group_to_receive_clients }) { user_group { id } messages { field message } }}"""  # noqa: E501

USER_GROUPS = """query userGroups($offset: Int, $keywords: String, $sort_by: String) { userGroupsCount(keywords: $keywords) userGroups(offset: $offset, keywords: $keywords, sort_by: $sort_by, should_paginate: true) { id name users_count }}"""  # noqa: E501
