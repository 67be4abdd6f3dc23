"""The seed's tag and location documents, verbatim (Healthie's patient management docs).

Line breaks are the seed's own: its tag documents continue on a second line.
"""

CREATE_LOCATION = """mutation createLocation( $user_id: String $name: String $line1: String $zip: String $city: String $state: String $npi: String) { createLocation( input: { user_id: $user_id, name: $name, line1: $line1, zip: $zip, city: $city, state: $state, npi: $npi } ) { location { id name line1 zip } messages { field message } }}"""  # noqa: E501

CREATE_TAG = """mutation createTag($name: String, $taggable_user_id: ID) { createTag(input: { name: $name, taggable_user_id: $taggable_user_id }) { tag { id name tagged_users { id } }
messages { field message } }}"""  # noqa: E501

UPDATE_TAG = """mutation updateTag($id: ID, $name: String) { updateTag(input: { id: $id, name: $name }) { tag { id name }
messages { field message } }}"""  # noqa: E501

DELETE_TAG = """mutation deleteTag($id: ID) { deleteTag(input: { id: $id }) { tag { id name }
messages { field message } }}"""

TAGS = """query tags { tags { id name }}"""

APPLY_TAGS = """mutation applyTags($ids: [ID], $taggable_user_id: ID) { bulkApply(input: { ids: $ids, taggable_user_id: $taggable_user_id }) { tags { id name }
messages { field message } }}"""  # noqa: E501

REMOVE_APPLIED_TAG = """mutation removeAppliedTag($id: ID, $taggable_user_id: ID) { removeAppliedTag(input: { id: $id, taggable_user_id: $taggable_user_id }) { tag { id name }
messages { field message } }}"""  # noqa: E501
